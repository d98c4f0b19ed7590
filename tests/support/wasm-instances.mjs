// The wasm instances this process makes, as the package's entries make them: imported before
// the package, it records each instance's exports. The entries for Node's `import` (ES modules)
// and `require` (CommonJS) carry the glue in files of their own, so a test finds the instance
// behind what it calls here rather than through one of the package's files.

const made = [];
const Instance = WebAssembly.Instance;
WebAssembly.Instance = class extends Instance {
  constructor(module, imports) {
    super(module, imports);
    made.push(this.exports);
  }
};

/** The exports of the one instance made so far that exports `name` (a function of its module). */
export function instanceWith(name) {
  const found = made.filter((exports) => typeof exports[name] === 'function');
  if (found.length !== 1) throw new Error(`${found.length} wasm instances export ${name}`);
  return found[0];
}
