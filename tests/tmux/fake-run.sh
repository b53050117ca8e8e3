#!/bin/sh
# tests/tmux/fake-run.sh RUN_DIR [STEPS] [DELAY]: writes a plausible
# metrics.jsonl into RUN_DIR the way a training process does (step lines,
# an lr change event, an evaluation every 100 steps with 10 Fashion
# classes, state lines), flushing as it goes; DELAY seconds between
# batches of 20 steps (0: all at once). For the watch tests and screens.
dir=$1 steps=${2:-400} delay=${3:-0}
mkdir -p "$dir"
f="$dir/metrics.jsonl"
: > "$f"
step=0
while [ "$step" -lt "$steps" ]; do
	awk -v s0="$step" -v n=20 -v total="$steps" 'BEGIN {
		split("T-shirt Trouser Pullover Dress Coat Sandal Shirt Sneaker Bag Boot", names, " ")
		if (s0 == 0)
			printf "{\"type\":\"state\",\"state\":\"training\",\"name\":\"fashion_fcos\",\"step\":0,\"total_steps\":%d,\"epoch\":0,\"epochs\":10,\"t\":0,\"eta\":null,\"text\":\"started\"}\n", total
		for (s = s0 + 1; s <= s0 + n; s++) {
			lr = (s < 250) ? 0.01 : 0.003
			if (s < 50) lr = lr * s / 50
			cls = 1.2 * exp(-s / 150) + 0.25 + 0.05 * sin(s * 0.7)
			box = 0.8 * exp(-s / 220) + 0.30 + 0.04 * cos(s * 0.9)
			q = 0.66 - 0.05 * (1 - exp(-s / 100)) + 0.02 * sin(s * 1.3)
			printf "{\"type\":\"step\",\"step\":%d,\"epoch\":%.3f,\"t\":%.2f,\"loss\":%.5f,\"cls\":%.5f,\"box\":%.5f,\"quality\":%.5f,\"lr\":%.6g,\"images_per_s\":%.1f,\"data_wait\":%.3f}\n", s, s / 40.0, s * 0.25, cls + box + q, cls, box, q, lr, 64 + 4 * sin(s), 0.03
			if (s == 250)
				printf "{\"type\":\"event\",\"kind\":\"set\",\"step\":250,\"epoch\":6.25,\"t\":62.5,\"key\":\"lr\",\"old\":0.01,\"new\":0.003,\"text\":\"lr 0.01 -> 0.003\"}\n"
			if (s % 100 == 0) {
				k = s / 100
				ap = 0.05 + 0.08 * k
				printf "{\"type\":\"eval\",\"step\":%d,\"epoch\":%.2f,\"t\":%.1f,\"stats\":[%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f],\"classes\":[", s, s / 40.0, s * 0.25, ap, ap * 1.8, ap * 0.9, ap * 0.5, ap, ap * 1.2, ap, ap * 1.5, ap * 1.6, ap, ap, ap
				for (c = 1; c <= 10; c++) {
					cap = ap * (0.4 + 0.13 * ((c * 7) % 10))
					if (names[c] == "Shirt") cap = ap * 0.3
					printf "%s{\"name\":\"%s\",\"ap\":%.4f,\"ap50\":%.4f,\"ap75\":%.4f,\"ngt\":%d,\"ndet\":%d}", (c > 1) ? "," : "", names[c], cap, cap * 1.7, cap * 0.8, 30 + c * 3, 40 + c * 5 + k * 3
				}
				printf "]}\n"
				printf "{\"type\":\"event\",\"kind\":\"eval\",\"step\":%d,\"epoch\":%.2f,\"t\":%.1f,\"key\":\"AP\",\"old\":null,\"new\":%.4f,\"text\":\"AP %.3f\"}\n", s, s / 40.0, s * 0.25, ap, ap
			}
		}
		st = (s0 + n >= total) ? "done" : "training"
		printf "{\"type\":\"state\",\"state\":\"%s\",\"name\":\"fashion_fcos\",\"step\":%d,\"total_steps\":%d,\"epoch\":%.3f,\"epochs\":10,\"t\":%.2f,\"eta\":%.1f,\"text\":\"%s\"}\n", st, s0 + n, total, (s0 + n) / 40.0, (s0 + n) * 0.25, (total - s0 - n) * 0.25, (st == "done") ? "finished" : ""
	}' >> "$f"
	step=$((step + 20))
	[ "$delay" = 0 ] || sleep "$delay"
done
