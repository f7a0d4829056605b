#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
requirements:
  EnvVarRequirement:
    envDef:
      GREETING: hello
  InlineJavascriptRequirement: {}
hints:
  DockerRequirement:
    dockerPull: debian:stable-slim
inputs:
  name: string
  count: int?
  files: File[]
  maybe_files: File[]?
  ref:
    type: File
    default:
      class: File
      location: data/ref.txt
      secondaryFiles:
        - class: File
          path: data/ref.txt.fai
  mode:
    type:
      type: enum
      symbols: ["#mode/fast", slow]
  "#main/full":
    type: string
outputs:
  out: stdout
  text:
    type: string
    outputBinding:
      glob: x
