#!/usr/bin/env cwl-runner
# Work reuse with a generated stdout name (test_cache.sh).
cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'cat "$0"; date +%s%N']
inputs:
  infile:
    type: File
    inputBinding: {position: 1}
outputs:
  out: stdout
