# recipes: ready experiments, installed under $(pkgdatadir)/recipes.
