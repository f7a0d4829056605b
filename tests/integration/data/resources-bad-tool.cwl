#!/usr/bin/env cwl-runner
# A ResourceRequirement that evaluates to no number (test_resources.sh).
cwlVersion: v1.2
class: CommandLineTool
requirements:
  ResourceRequirement:
    coresMin: $(inputs.label)
inputs:
  label: {type: string, default: many}
baseCommand: 'true'
outputs: []
