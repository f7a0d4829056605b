# secondaryFiles declared on record fields: "rec.ref" wants ".fai", each
# element of "pairs" (an array of records) has a "bam" that wants ".idx".
# With s3:// Files cwld fetches those too, as params would find them next
# to local files; the expression lists what each File came with.
# tests/integration/test_s3.sh runs it.
cwlVersion: v1.2
class: ExpressionTool
requirements:
  InlineJavascriptRequirement: {}
inputs:
  rec:
    type:
      type: record
      fields:
        ref:
          type: File
          secondaryFiles: [.fai]
  pairs:
    type:
      type: array
      items:
        type: record
        fields:
          bam:
            type: File
            secondaryFiles: [.idx]
outputs:
  names: string
expression: |
  ${ function names(f) {
       return f.basename + ":" + f.secondaryFiles.map(function (s) { return s.basename; }).join(",");
     }
     return {names: [names(inputs.rec.ref)].concat(inputs.pairs.map(function (p) {
       return names(p.bam); })).join(" ")}; }
