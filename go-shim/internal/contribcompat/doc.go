// Package contribcompat holds tests and benchmarks that run Tollbooth's components beside the
// stock contrib components they replace, in the same process on the same input:
//
//   - redaction equivalence: contrib's `redaction` processor and our `genai` processor with the
//     same `redaction:` block must leave identical attributes (tests/fixtures/contrib_equivalence.json);
//   - benchmarks: contrib `redaction` vs `genai` redaction, and contrib `span_metrics` vs
//     `genai_metrics`, on the standard batch (internal/testbatch); numbers go in BENCHMARKS.md.
//
// Contrib components are test-only dependencies: nothing here is linked into the collector.
package contribcompat
