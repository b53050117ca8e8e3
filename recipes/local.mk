# recipes: ready experiments, installed under $(pkgdatadir)/recipes.
dist_recipes_DATA += recipes/fashion_fcos.lua
dist_recipes_DATA += recipes/fashion_retinanet.lua recipes/coco_example.lua recipes/voc_example.lua recipes/yolo_example.lua \
	recipes/audit_labels.lua
