#!/usr/bin/python3
"""make_tide.py: TIDE's numbers for the cocoeval fixtures, written as an
independent, plain transcription of the TIDE toolkit's rules (tidecv 1.0:
quantify.py, ap.py, errors/) in numpy, so the C implementation
(src/eval/tide.c) is checked against a second implementation that follows
tidecv's control flow step by step: per-image matching over all classes,
the error tests in tidecv's order, BestGTMatch, fix_errors' point order
(errors first, then the true positives), Python's stable sorts, and
APDataObject.get_ap's 101-bar sum.

Run: /usr/bin/python3 tests/golden/tide/make_tide.py  (writes caseN.json here)
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "cocoeval")
POS, BKG = 0.5, 0.1
TYPES = ["Cls", "Loc", "Both", "Dupe", "Bkg", "Miss"]


def iou(dets, gts, crowd):
    """pycocotools' bbox IoU: o[d, g]; crowd g divides by the detection's area."""
    o = np.zeros((len(dets), len(gts)))
    for g, G in enumerate(gts):
        ga = G[2] * G[3]
        for d, D in enumerate(dets):
            da = D[2] * D[3]
            w = min(D[2] + D[0], G[2] + G[0]) - max(D[0], G[0])
            if w <= 0:
                continue
            h = min(D[3] + D[1], G[3] + G[1]) - max(D[1], G[1])
            if h <= 0:
                continue
            i = w * h
            o[d, g] = i / (da if crowd[g] else da + ga - i)
    return o


def get_ap(points, num_gt):
    """points: list of (score, correct, ...) in insertion order."""
    if num_gt == 0:
        return 0
    pts = sorted(points, key=lambda p: -p[0])
    prec, rec = [], []
    nt = nf = 0
    for p in pts:
        if p[1]:
            nt += 1
        else:
            nf += 1
        prec.append(nt / (nt + nf))
        rec.append(nt / num_gt)
    for i in range(len(prec) - 1, 0, -1):
        if prec[i] > prec[i - 1]:
            prec[i - 1] = prec[i]
    xs = np.array([x / 100 for x in range(101)])
    idx = np.searchsorted(np.array(rec), xs, side="left")
    ys = [prec[j] if j < len(prec) else 0 for j in idx]
    return sum(ys) / len(ys) * 100


def mean_ap(objs):
    aps = [get_ap(o["pts"], o["gt"]) for o in objs.values() if not (len(o["pts"]) == 0 and o["gt"] == 0)]
    return sum(aps) / len(aps)


def run(case):
    gtj = json.load(open(os.path.join(FIX, case, "gt.json")))
    res = json.load(open(os.path.join(FIX, case, "results.json")))
    per_img_gt, per_img_dt = {}, {}
    for img in gtj["images"]:
        per_img_gt.setdefault(img["id"], [])
        per_img_dt.setdefault(img["id"], [])
    for k, a in enumerate(gtj["annotations"]):
        per_img_gt[a["image_id"]].append({"k": k, "cls": a["category_id"], "bbox": a["bbox"], "ignore": bool(a.get("iscrowd", 0))})
    for k, d in enumerate(res):
        per_img_dt[d["image_id"]].append({"k": k, "cls": d["category_id"], "bbox": d["bbox"], "score": d["score"]})

    objs = {}  # class -> {"pts": [(score, correct, id)], "gt": n}

    def obj(c):
        return objs.setdefault(c, {"pts": [], "gt": 0})

    errors = []  # dicts: type, cls, score, fix_cls, fixable, id, gt
    fn = {}
    for img in per_img_gt:  # file order
        gts = per_img_gt[img]
        preds = per_img_dt[img]
        for t in gts:
            if not t["ignore"]:
                obj(t["cls"])["gt"] += 1
        real = [t for t in gts if not t["ignore"]]
        ign = [t for t in gts if t["ignore"]]
        if len(preds) == 0:
            for t in real:
                fn[t["cls"]] = fn.get(t["cls"], 0) + 1
                errors.append({"type": "Miss", "cls": t["cls"]})
            continue
        preds = sorted(preds, key=lambda p: -p["score"])[:100]
        for p in preds:
            p["used"] = False
        for t in real:
            t["used"] = False
            t["usable"] = False
            t.pop("best_score", None)
            t.pop("best_id", None)
        if real:
            giou = iou([p["bbox"] for p in preds], [t["bbox"] for t in real], [False] * len(real))
            same = np.array([[p["cls"] == t["cls"] for t in real] for p in preds])
            cls_iou = giou * same
            buf = cls_iou.copy()
            for i, p in enumerate(preds):
                j = int(np.argmax(buf[i]))
                if buf[i, j] >= POS:
                    p["used"] = True
                    p["match"] = j
                    real[j]["used"] = True
                    buf[:, j] = 0
        for r in ign:
            ci = iou([p["bbox"] for p in preds], [r["bbox"]], [True])
            for i, p in enumerate(preds):
                if not p["used"] and ci[i, 0] > POS and r["cls"] == p["cls"]:
                    p["used"] = None
        if real:
            used = np.array([t["used"] is True for t in real])[None, :]
            noncls = giou * ~same
            used_cls = used * giou * same
        img_errors = []
        for i, p in enumerate(preds):
            if p["used"] is None:
                continue
            obj(p["cls"])["pts"].append((p["score"], bool(p["used"]), p["k"]))
            if p["used"]:
                continue
            e = {"cls": p["cls"], "score": p["score"], "id": p["k"]}
            if not real:
                e["type"] = "Bkg"
            else:
                j = int(np.argmax(cls_iou[i]))
                if BKG <= cls_iou[i, j] <= POS:
                    e["type"], e["gt"] = "Loc", j
                else:
                    j = int(np.argmax(noncls[i]))
                    if noncls[i, j] >= POS:
                        e["type"], e["gt"] = "Cls", j
                    else:
                        j = int(np.argmax(used_cls[i]))
                        if used_cls[i, j] >= POS:
                            e["type"] = "Dupe"
                        else:
                            j = int(np.argmax(giou[i]))
                            e["type"] = "Bkg" if giou[i, j] <= BKG else "Both"
            if e["type"] in ("Cls", "Loc"):
                t = real[e["gt"]]
                e["fix_cls"] = t["cls"]
                if t["used"]:
                    e["suppress"] = True
                else:
                    e["suppress"] = False
                    t["usable"] = True
                    if t.get("best_score", -1) < p["score"]:
                        t["best_score"] = p["score"]
                        t["best_id"] = p["k"]
                e["gtref"] = t
            img_errors.append(e)
        errors.extend(img_errors)
        for t in real:
            if not t["used"]:
                fn[t["cls"]] = fn.get(t["cls"], 0) + 1
                if not t["usable"]:
                    errors.append({"type": "Miss", "cls": t["cls"]})
    for e in errors:
        if e["type"] in ("Cls", "Loc"):
            e["fixable"] = not e["suppress"] and e["gtref"]["best_id"] == e["id"]

    base = mean_ap(objs)

    def fixed(mode):
        new = {c: {"pts": [], "gt": o["gt"]} for c, o in objs.items()}
        for e in errors:
            if e["type"] == "Miss":
                if mode == "Miss":
                    new[e["cls"]]["gt"] -= 1
                continue
            score = e["score"]
            if e["type"] == mode:
                if e["type"] in ("Cls", "Loc") and e["fixable"]:
                    c = e["fix_cls"] if e["type"] == "Cls" else e["cls"]
                    new[c]["pts"].append((score, True))
                continue
            if mode == "FalsePos":
                score = 0
            new[e["cls"]]["pts"].append((score, False))
        for c, o in objs.items():
            for s, corr, _ in o["pts"]:
                if corr:
                    new[c]["pts"].append((1 if mode == "FalsePos" else s, True))
        if mode == "FalseNeg":
            for c in new:
                new[c]["gt"] -= fn.get(c, 0)
        return mean_ap(new)

    out = {"AP50": base, "dAP": {}, "count": {}}
    for t in TYPES:
        out["dAP"][t] = max(fixed(t) - base, 0)
        out["count"][t] = sum(1 for e in errors if e["type"] == t)
    out["FalsePos"] = fixed("FalsePos") - base
    out["FalseNeg"] = fixed("FalseNeg") - base
    return out


if __name__ == "__main__":
    for n in range(1, 6):
        case = "case%d" % n
        with open(os.path.join(HERE, case + ".json"), "w") as f:
            json.dump(run(case), f, indent=1)
        print(case, "written")
