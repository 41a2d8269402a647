"""Fails unless a generated binary's `summary:` line shows a peak RSS at most
LIMIT MiB above the bytes of its tensors.  Usage: check-rss.py LOG LIMIT_MIB

The peak RSS counts the pages a process has touched, so memory that is
allocated but never written does not count, and memory that is written does,
however it was allocated. The harness writes every tensor (inputs are filled,
outputs stored), so the peak RSS is at least their bytes: a smaller value,
or 0 (what the harness prints when it cannot read the peak), fails."""
import re
import sys

log, limit_mib = sys.argv[1], float(sys.argv[2])
text = open(log).read()
match = re.search(r"peak_rss_bytes=(-?\d+) tensor_bytes=(\d+)", text)
if not match:
    sys.exit(f"no 'summary: ... peak_rss_bytes=N tensor_bytes=N' line in {log}")
rss, tensors = (int(g) for g in match.groups())
if rss <= 0:
    sys.exit(f"the program could not read its peak RSS (peak_rss_bytes={rss})")
if rss < tensors:
    sys.exit(f"peak RSS {rss} bytes is below the {tensors} bytes of tensors "
             "the program wrote; the measurement is wrong")
extra = (rss - tensors) / 2**20
print(f"peak RSS {rss / 2**20:.1f} MiB, tensors {tensors / 2**20:.1f} MiB, "
      f"extra {extra:.1f} MiB (limit {limit_mib:g} MiB)")
sys.exit(0 if extra <= limit_mib else 1)
