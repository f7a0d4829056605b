#!/usr/bin/env cwl-runner
# Fan-in: sums the per-part counts into a small report.
cwlVersion: v1.2
class: CommandLineTool
doc: Sum word counts into a report.
requirements:
  DockerRequirement:
    dockerPull: cwld-example:latest
baseCommand: [awk]
arguments:
  - position: 0
    valueFrom: '{ n++; s += $1; printf "part %d: %d words\n", n, $1 } END { printf "total: %d words\n", s }'
inputs:
  first:
    type: File
    inputBinding:
      position: 1
  second:
    type: File
    inputBinding:
      position: 2
stdout: report.txt
outputs:
  report:
    type: stdout
