#!/usr/bin/env cwl-runner
# Prints the memory and CPU limits the container sees (cgroup v2, else v1).
cwlVersion: v1.2
class: CommandLineTool
requirements:
  DockerRequirement: {dockerPull: debian:stable-slim}
  ResourceRequirement: {coresMin: 1, coresMax: 1.5, ramMin: 32, ramMax: 64}
inputs: []
baseCommand: [sh, -c]
arguments:
  - |
    cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes
    cat /sys/fs/cgroup/cpu.max 2>/dev/null || echo "`cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us` `cat /sys/fs/cgroup/cpu/cpu.cfs_period_us`"
stdout: limits.txt
outputs:
  out: {type: stdout}
