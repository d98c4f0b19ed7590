//! The TypeScript declarations of the objects that cross the boundary (parameters, options,
//! the API's objects, pages and list requests), in `types.d.ts`. wasm-bindgen writes the
//! classes' own declarations from `client.rs`, `resources.rs` and `list.rs`; these go into
//! the same file. A host test (`spec::resources`) holds them to the API's table.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("types.d.ts");
