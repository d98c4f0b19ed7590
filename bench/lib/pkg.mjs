// Where an assembled package's entry for Node is, as its package.json's exports say (an
// earlier build, QBITPAY_BEFORE_PKG, may have had separate ES module entries for Node).
import fs from 'node:fs';
import path from 'node:path';

/** The file Node's `import` of `subpath` ('.', './webhook') loads from the package in `dir`. */
export function nodeImport(dir, subpath = '.') {
  const { exports } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const node = exports[subpath].node;
  return path.join(dir, typeof node === 'string' ? node : node.import);
}
