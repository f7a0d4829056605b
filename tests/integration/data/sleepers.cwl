#!/usr/bin/env cwl-runner
# Two containers that run long enough to be caught mid-flight (test_cancel.sh).
cwlVersion: v1.2
class: Workflow
requirements:
  ScatterFeatureRequirement: {}
inputs:
  secs: {type: 'int[]', default: [300, 301]}
outputs: []
steps:
  nap:
    scatter: secs
    in: {secs: secs}
    out: []
    run:
      class: CommandLineTool
      requirements:
        DockerRequirement: {dockerPull: debian:stable-slim}
      inputs:
        secs: {type: int, inputBinding: {position: 1}}
      baseCommand: sleep
      outputs: []
