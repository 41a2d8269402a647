"""Fails unless a generated binary's `summary:` line shows a peak RSS at most
LIMIT MiB above the bytes of its tensors.  Usage: check-rss.py LOG LIMIT_MIB"""
import re
import sys

log, limit_mib = sys.argv[1], float(sys.argv[2])
text = open(log).read()
match = re.search(r"peak_rss_bytes=(\d+) tensor_bytes=(\d+)", text)
if not match:
    sys.exit(f"no 'summary: ... peak_rss_bytes=N tensor_bytes=N' line in {log}")
rss, tensors = (int(g) for g in match.groups())
extra = (rss - tensors) / 2**20
print(f"peak RSS {rss / 2**20:.1f} MiB, tensors {tensors / 2**20:.1f} MiB, "
      f"extra {extra:.1f} MiB (limit {limit_mib:g} MiB)")
sys.exit(0 if extra <= limit_mib else 1)
