# recipes: ready experiments, installed under $(pkgdatadir)/recipes.
dist_recipes_DATA += recipes/fashion_fcos.lua
