#!/usr/bin/python3
"""gen_assign.py: the PyTorch reference for src/det/assign.c, written from
mmdetection 2.x (FCOSHead._get_target_single, ATSSAssigner.assign,
TaskAlignedAssigner.assign) with its tensor operations kept as they are, on
fixed random inputs. Run from the repository root:

    /usr/bin/python3 tests/golden/det/gen_assign.py

Writes tests/golden/det/assign.txt (`name count v0 v1 ...` per line).
Assigned indices are 0-based gt indices, -1 for background."""
import os
import torch

torch.manual_seed(7)
out = []
INF = 1e8


def put(name, t):
    t = torch.as_tensor(t).detach().reshape(-1).double()
    out.append(name + " %d " % t.numel() + " ".join("%.9g" % v for v in t.tolist()))


def bbox_overlaps(b1, b2, eps=1e-6):
    # mmdet.core.bbox.iou_calculators.bbox_overlaps, mode "iou", not aligned
    area1 = (b1[:, 2] - b1[:, 0]) * (b1[:, 3] - b1[:, 1])
    area2 = (b2[:, 2] - b2[:, 0]) * (b2[:, 3] - b2[:, 1])
    lt = torch.max(b1[:, None, :2], b2[None, :, :2])
    rb = torch.min(b1[:, None, 2:], b2[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    overlap = wh[..., 0] * wh[..., 1]
    union = area1[:, None] + area2[None, :] - overlap
    union = torch.max(union, union.new_tensor([eps]))
    return overlap / union


# anchor points of three levels on a 128 x 128 image
strides = [8, 16, 32]
pts, counts = [], []
for s in strides:
    k = 128 // s
    ys, xs = torch.meshgrid(torch.arange(k), torch.arange(k), indexing="ij")
    p = torch.stack([xs.reshape(-1) * s + s // 2, ys.reshape(-1) * s + s // 2], 1).float()
    pts.append(p)
    counts.append(len(p))
points = torch.cat(pts)
n = len(points)
xy = torch.rand(24, 2) * 110
wh = torch.rand(24, 2) * 80 + 4
gt = torch.cat([xy, torch.min(xy + wh, torch.tensor(127.0))], 1)
gt[5] = gt[4] * 0.5 + torch.tensor([10.0, 10.0, 10.0, 10.0])  # overlapping gts
labels = torch.randint(0, 4, (24,))
# boundary cases each assigner must get exactly right:
gt[7] = gt[6]                                   # identical boxes: area and IoU ties
labels[7] = labels[6]
gt[8] = torch.tensor([-8.0, 19.0, 29.0, 29.0])  # level-1 point (24, 24) reaches exactly 32
gt[9] = torch.tensor([0.0, 0.0, 30.0, 31.0])    # its class (4) scores 0 everywhere (TAL); not
                                                # square, so no two centre distances tie
labels[9] = 4
gt[10] = torch.tensor([43.995, 24.0, 56.0, 64.0])  # point (44, 44) inside by 0.005 only
gt[11] = torch.tensor([-12.0, 10.0, 30.0, 30.0])   # level-0 point (20, 20) reaches exactly 32
put("points", points)
put("counts", counts)
put("strides", strides)
put("gt", gt)
put("labels", labels)


# ---- FCOS ----------------------------------------------------------------
def fcos(points, gt, ranges_lvl, radius):
    num_points, num_gts = len(points), len(gt)
    regress_ranges = torch.cat([torch.tensor(r).float().expand(c, 2) for r, c in zip(ranges_lvl, counts)])
    areas = (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1])
    areas = areas[None].repeat(num_points, 1)
    regress_ranges = regress_ranges[:, None, :].expand(num_points, num_gts, 2)
    gt_bboxes = gt[None].expand(num_points, num_gts, 4)
    xs, ys = points[:, 0], points[:, 1]
    xs = xs[:, None].expand(num_points, num_gts)
    ys = ys[:, None].expand(num_points, num_gts)
    left = xs - gt_bboxes[..., 0]
    right = gt_bboxes[..., 2] - xs
    top = ys - gt_bboxes[..., 1]
    bottom = gt_bboxes[..., 3] - ys
    bbox_targets = torch.stack((left, top, right, bottom), -1)
    if radius > 0:
        center_xs = (gt_bboxes[..., 0] + gt_bboxes[..., 2]) / 2
        center_ys = (gt_bboxes[..., 1] + gt_bboxes[..., 3]) / 2
        center_gts = torch.zeros_like(gt_bboxes)
        stride = center_xs.new_zeros(center_xs.shape)
        lvl_begin = 0
        for lvl_idx, num_points_lvl in enumerate(counts):
            lvl_end = lvl_begin + num_points_lvl
            stride[lvl_begin:lvl_end] = strides[lvl_idx] * radius
            lvl_begin = lvl_end
        x_mins = center_xs - stride
        y_mins = center_ys - stride
        x_maxs = center_xs + stride
        y_maxs = center_ys + stride
        center_gts[..., 0] = torch.where(x_mins > gt_bboxes[..., 0], x_mins, gt_bboxes[..., 0])
        center_gts[..., 1] = torch.where(y_mins > gt_bboxes[..., 1], y_mins, gt_bboxes[..., 1])
        center_gts[..., 2] = torch.where(x_maxs > gt_bboxes[..., 2], gt_bboxes[..., 2], x_maxs)
        center_gts[..., 3] = torch.where(y_maxs > gt_bboxes[..., 3], gt_bboxes[..., 3], y_maxs)
        cb_dist_left = xs - center_gts[..., 0]
        cb_dist_right = center_gts[..., 2] - xs
        cb_dist_top = ys - center_gts[..., 1]
        cb_dist_bottom = center_gts[..., 3] - ys
        center_bbox = torch.stack((cb_dist_left, cb_dist_top, cb_dist_right, cb_dist_bottom), -1)
        inside_gt_bbox_mask = center_bbox.min(-1)[0] > 0
    else:
        inside_gt_bbox_mask = bbox_targets.min(-1)[0] > 0
    max_regress_distance = bbox_targets.max(-1)[0]
    inside_regress_range = ((max_regress_distance >= regress_ranges[..., 0])
                            & (max_regress_distance <= regress_ranges[..., 1]))
    areas[inside_gt_bbox_mask == 0] = INF
    areas[inside_regress_range == 0] = INF
    min_area, min_area_inds = areas.min(dim=1)
    min_area_inds[min_area == INF] = -1
    return min_area_inds


ranges = [(-1.0, 32.0), (32.0, 64.0), (64.0, INF)]
put("fcos.ranges", ranges)
put("fcos.r15", fcos(points, gt, ranges, 1.5))
put("fcos.r0", fcos(points, gt, ranges, 0.0))


# ---- ATSS ------------------------------------------------------------------
def atss(bboxes, num_level_bboxes, gt_bboxes, topk=9):
    num_gt, num_bboxes = gt_bboxes.size(0), bboxes.size(0)
    overlaps = bbox_overlaps(bboxes, gt_bboxes)
    assigned_gt_inds = overlaps.new_full((num_bboxes,), 0, dtype=torch.long)
    gt_cx = (gt_bboxes[:, 0] + gt_bboxes[:, 2]) / 2.0
    gt_cy = (gt_bboxes[:, 1] + gt_bboxes[:, 3]) / 2.0
    gt_points = torch.stack((gt_cx, gt_cy), dim=1)
    bboxes_cx = (bboxes[:, 0] + bboxes[:, 2]) / 2.0
    bboxes_cy = (bboxes[:, 1] + bboxes[:, 3]) / 2.0
    bboxes_points = torch.stack((bboxes_cx, bboxes_cy), dim=1)
    distances = (bboxes_points[:, None, :] - gt_points[None, :, :]).pow(2).sum(-1).sqrt()
    candidate_idxs = []
    start_idx = 0
    for level, bboxes_per_level in enumerate(num_level_bboxes):
        end_idx = start_idx + bboxes_per_level
        distances_per_level = distances[start_idx:end_idx, :]
        selectable_k = min(topk, bboxes_per_level)
        _, topk_idxs_per_level = distances_per_level.topk(selectable_k, dim=0, largest=False)
        candidate_idxs.append(topk_idxs_per_level + start_idx)
        start_idx = end_idx
    candidate_idxs = torch.cat(candidate_idxs, dim=0)
    candidate_overlaps = overlaps[candidate_idxs, torch.arange(num_gt)]
    overlaps_mean_per_gt = candidate_overlaps.mean(0)
    overlaps_std_per_gt = candidate_overlaps.std(0)
    overlaps_thr_per_gt = overlaps_mean_per_gt + overlaps_std_per_gt
    is_pos = candidate_overlaps >= overlaps_thr_per_gt[None, :]
    for gt_idx in range(num_gt):
        candidate_idxs[:, gt_idx] += gt_idx * num_bboxes
    ep_bboxes_cx = bboxes_cx.view(1, -1).expand(num_gt, num_bboxes).contiguous().view(-1)
    ep_bboxes_cy = bboxes_cy.view(1, -1).expand(num_gt, num_bboxes).contiguous().view(-1)
    candidate_idxs = candidate_idxs.view(-1)
    l_ = ep_bboxes_cx[candidate_idxs].view(-1, num_gt) - gt_bboxes[:, 0]
    t_ = ep_bboxes_cy[candidate_idxs].view(-1, num_gt) - gt_bboxes[:, 1]
    r_ = gt_bboxes[:, 2] - ep_bboxes_cx[candidate_idxs].view(-1, num_gt)
    b_ = gt_bboxes[:, 3] - ep_bboxes_cy[candidate_idxs].view(-1, num_gt)
    is_in_gts = torch.stack([l_, t_, r_, b_], dim=1).min(dim=1)[0] > 0.01
    is_pos = is_pos & is_in_gts
    overlaps_inf = torch.full_like(overlaps, -INF).t().contiguous().view(-1)
    index = candidate_idxs.view(-1)[is_pos.view(-1)]
    overlaps_inf[index] = overlaps.t().contiguous().view(-1)[index]
    overlaps_inf = overlaps_inf.view(num_gt, -1).t()
    max_overlaps, argmax_overlaps = overlaps_inf.max(dim=1)
    assigned_gt_inds[max_overlaps != -INF] = argmax_overlaps[max_overlaps != -INF] + 1
    max_overlaps[max_overlaps == -INF] = 0
    return assigned_gt_inds - 1, max_overlaps


# anchors: one square box of side 8 * stride (octave_base_scale 8) per point
side = torch.cat([torch.full((c,), 8.0 * s) for s, c in zip(strides, counts)])
anchors = torch.cat([points - side[:, None] / 2, points + side[:, None] / 2], 1)
put("atss.anchors", anchors)
a, o = atss(anchors, counts, gt)
put("atss.assigned", a)
put("atss.iou", o)
# smaller anchors (side 4 * stride): a second, different assignment
anchors2 = torch.cat([points - side[:, None] / 4, points + side[:, None] / 4], 1)
put("atss2.anchors", anchors2)
a, o = atss(anchors2, counts, gt)
put("atss2.assigned", a)
put("atss2.iou", o)


# ---- task-aligned (TOOD) -----------------------------------------------------
def tal(pred_scores, decode_bboxes, anchors, gt_bboxes, gt_labels, topk=13, alpha=1, beta=6):
    num_gt, num_bboxes = gt_bboxes.size(0), decode_bboxes.size(0)
    assigned_gt_inds = decode_bboxes.new_full((num_bboxes,), 0, dtype=torch.long)
    assign_metrics = anchors.new_zeros((num_bboxes,))
    overlaps = bbox_overlaps(decode_bboxes, gt_bboxes).detach()
    bbox_scores = pred_scores[:, gt_labels].detach()
    alignment_metrics = bbox_scores ** alpha * overlaps ** beta
    topk = min(topk, alignment_metrics.size(0))
    _, candidate_idxs = alignment_metrics.topk(topk, dim=0, largest=True)
    candidate_metrics = alignment_metrics[candidate_idxs, torch.arange(num_gt)]
    is_pos = candidate_metrics > 0
    anchors_cx = (anchors[:, 0] + anchors[:, 2]) / 2.0
    anchors_cy = (anchors[:, 1] + anchors[:, 3]) / 2.0
    for gt_idx in range(num_gt):
        candidate_idxs[:, gt_idx] += gt_idx * num_bboxes
    ep_anchors_cx = anchors_cx.view(1, -1).expand(num_gt, num_bboxes).contiguous().view(-1)
    ep_anchors_cy = anchors_cy.view(1, -1).expand(num_gt, num_bboxes).contiguous().view(-1)
    candidate_idxs = candidate_idxs.view(-1)
    l_ = ep_anchors_cx[candidate_idxs].view(-1, num_gt) - gt_bboxes[:, 0]
    t_ = ep_anchors_cy[candidate_idxs].view(-1, num_gt) - gt_bboxes[:, 1]
    r_ = gt_bboxes[:, 2] - ep_anchors_cx[candidate_idxs].view(-1, num_gt)
    b_ = gt_bboxes[:, 3] - ep_anchors_cy[candidate_idxs].view(-1, num_gt)
    is_in_gts = torch.stack([l_, t_, r_, b_], dim=1).min(dim=1)[0] > 0.01
    is_pos = is_pos & is_in_gts
    overlaps_inf = torch.full_like(overlaps, -INF).t().contiguous().view(-1)
    index = candidate_idxs.view(-1)[is_pos.view(-1)]
    overlaps_inf[index] = overlaps.t().contiguous().view(-1)[index]
    overlaps_inf = overlaps_inf.view(num_gt, -1).t()
    max_overlaps, argmax_overlaps = overlaps_inf.max(dim=1)
    assigned_gt_inds[max_overlaps != -INF] = argmax_overlaps[max_overlaps != -INF] + 1
    assign_metrics[max_overlaps != -INF] = alignment_metrics[max_overlaps != -INF,
                                                             argmax_overlaps[max_overlaps != -INF]]
    return assigned_gt_inds - 1, assign_metrics


scores = torch.rand(n, 5)
scores[:, 4] = 0
pw = (torch.rand(n, 2) * 0.8 + 0.2) * side[:, None] / 2
pred = torch.cat([points - pw, points + pw], 1)
put("tal.scores", scores)
put("tal.pred", pred)
point_boxes = torch.cat([points, points], 1)  # anchors as points: centre = point
a, m = tal(scores, pred, point_boxes, gt, labels)
put("tal.assigned", a)
put("tal.metric", m)
a, m = tal(scores, pred, point_boxes, gt, labels, topk=5, alpha=0.5, beta=2)
put("tal2.assigned", a)
put("tal2.metric", m)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assign.txt")
with open(path, "w") as f:
    f.write("\n".join(out) + "\n")
print("wrote", path, len(out), "arrays")
