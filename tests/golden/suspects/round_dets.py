#!/usr/bin/env python3
"""round_dets.py IN.json OUT.txt: a COCO results file as text, one detection
a line, "image_id category_id x y w h score", boxes rounded to 1/100 pixel
and scores to 4 decimals (a fixture a third the size; the ranking it feeds
moves by less than one planted error). Any python3, no torch."""
import json
import sys

dets = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    f.write("# image_id category_id x y w h score\n")
    for d in dets:
        x, y, w, h = d["bbox"]
        f.write("%d %d %.2f %.2f %.2f %.2f %.4f\n" % (d["image_id"], d["category_id"], x, y, w, h, d["score"]))
