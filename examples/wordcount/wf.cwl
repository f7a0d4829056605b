#!/usr/bin/env cwl-runner
# Word count in four steps: split a text in two, count each half in parallel
# (fan-out), then sum the counts into a report (fan-in). Every step runs in
# the locally built image cwld-example:latest (scripts/build-images.sh).
cwlVersion: v1.2
class: Workflow
doc: Count the words of a text file, half by half.
inputs:
  text: File
outputs:
  report:
    type: File
    outputSource: merge/report
  first_count:
    type: File
    outputSource: count_first/count
  second_count:
    type: File
    outputSource: count_second/count
steps:
  split:
    run: split.cwl
    in:
      text: text
    out: [first, second]
  count_first:
    run: count.cwl
    in:
      part: split/first
    out: [count]
  count_second:
    run: count.cwl
    in:
      part: split/second
    out: [count]
  merge:
    run: merge.cwl
    in:
      first: count_first/count
      second: count_second/count
    out: [report]
