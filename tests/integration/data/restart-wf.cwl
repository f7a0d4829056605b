#!/usr/bin/env cwl-runner
# Two containerised steps, the first long enough for a daemon to be killed
# while it runs (test_serve.sh): the restarted daemon must take its
# container over and run the second step once.
cwlVersion: v1.2
class: Workflow
requirements:
  DockerRequirement: {dockerPull: debian:stable-slim}
inputs:
  secs: {type: int, default: 4}
outputs:
  said: {type: File, outputSource: speak/out}
steps:
  nap:
    in: {secs: secs}
    out: [out]
    run:
      class: CommandLineTool
      baseCommand: [sh, -c, 'sleep "$0"; echo "slept $0"']
      inputs:
        secs: {type: int, inputBinding: {position: 1}}
      outputs:
        out: {type: stdout}
      stdout: nap.txt
  speak:
    in: {f: nap/out}
    out: [out]
    run:
      class: CommandLineTool
      baseCommand: [sed, 's/^/after a restart: /']
      inputs:
        f: {type: File, inputBinding: {position: 1}}
      outputs:
        out: {type: stdout}
      stdout: said.txt
