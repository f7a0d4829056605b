cwlVersion: v1.2
class: ExpressionTool
requirements:
  - class: InlineJavascriptRequirement
    expressionLib:
      - $include: lib.js
hints:
  - $import: hint.yml
inputs: []
outputs: []
expression: $({})
