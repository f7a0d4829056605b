#!/usr/bin/env cwl-runner
# Splits a text file into two halves at line boundaries (GNU split -n l/2).
cwlVersion: v1.2
class: CommandLineTool
doc: Split a text file into two parts without breaking lines.
requirements:
  DockerRequirement:
    dockerPull: cwld-example:latest
baseCommand: [split, -n, l/2, -d, --additional-suffix=.txt]
inputs:
  text:
    type: File
    inputBinding:
      position: 1
arguments:
  - valueFrom: part-
    position: 2
outputs:
  first:
    type: File
    outputBinding:
      glob: part-00.txt
  second:
    type: File
    outputBinding:
      glob: part-01.txt
