// Parse AsyncAPI documents with the official parser (@asyncapi/parser) and report its diagnostics.
//
//   node tools/asyncapi-validate/validate.mjs FILE...
//
// Prints one line per diagnostic (severity, path, message) and exits 1 when any file has an error-level
// diagnostic or cannot be parsed at all, 2 on bad usage, 0 otherwise. Warnings are printed, never fatal;
// information and hints are not printed.
import { readFile } from 'node:fs/promises';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';

const SEVERITY = { 0: 'error', 1: 'warning', 2: 'information', 3: 'hint' };

async function check(parser, file) {
  const text = await readFile(file, 'utf8');
  const { document, diagnostics } = await parser.parse(text, { source: file });
  for (const d of diagnostics.filter((x) => x.severity <= DiagnosticSeverity.Warning)) {
    const where = (d.path || []).join('/') || '(document)';
    console.log(`${file}: ${SEVERITY[d.severity] ?? d.severity} ${d.code} at ${where}: ${d.message}`);
  }
  const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
  if (document === undefined && errors.length === 0) {
    console.log(`${file}: error: the parser returned no document`);
    return false;
  }
  return errors.length === 0;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node validate.mjs FILE...');
  process.exit(2);
}
const parser = new Parser();
let ok = true;
for (const file of files) {
  ok = (await check(parser, file)) && ok;
}
console.log(ok ? `valid: ${files.length} document(s)` : 'invalid');
process.exit(ok ? 0 : 1);
