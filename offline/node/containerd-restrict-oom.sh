#!/bin/sh
# containerd ExecStartPre (offline kind node image): when the node's capability
# bounding set lacks CAP_SYS_RESOURCE (some sandboxed hosts), no process may
# lower its oom_score_adj, so runc fails every pod sandbox (kubelet asks -998)
# with "can't get final child's PID from pipe: EOF". Then let containerd clamp
# the scores to its own (restrict_oom_score_adj, what kind sets for rootless).
capbnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
if [ -n "$capbnd" ] && [ $(( 0x$capbnd >> 24 & 1 )) -eq 0 ]; then
  sed -i 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' /etc/containerd/config.toml
fi
exit 0
