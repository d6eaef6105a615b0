// Writes NAME.gz and NAME.br next to every .js, .wasm and .css file in a directory, prints each
// file's raw and compressed sizes, then the brotli totals: what the first page (the Overview)
// loads — the main WASM, its JS glue, the split-chunk loader and the stylesheet — and every
// asset, the lazily loaded page chunks included. Uses node's zlib so no extra tool is needed.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dir = process.argv[2];
const name = process.argv[3] ?? "fleetdeck";
if (!dir) {
  console.error("usage: node compress-assets.mjs DIR [OUTPUT_NAME]");
  process.exit(2);
}
// OUTPUT_NAME[.hash].{wasm,js,css} and __wasm_split[.hash].js are loaded by every page; the
// page chunks (split_*.wasm) and the chunks they share (chunk_*.wasm) only when a page needs them.
const firstPage = new RegExp(`^(${name}(\\.[\\w-]{22})?\\.(wasm|js|css)|__wasm_split\\.[\\w-]{22}\\.js)$`);
const total = { first: 0, all: 0, wasm: 0, firstWasm: 0 };
for (const file of readdirSync(dir).filter((n) => /\.(js|wasm|css)$/.test(n)).sort()) {
  const raw = readFileSync(join(dir, file));
  const gz = gzipSync(raw, { level: 9 });
  const br = brotliCompressSync(raw, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
  });
  writeFileSync(join(dir, `${file}.gz`), gz);
  writeFileSync(join(dir, `${file}.br`), br);
  console.log(`${file}: ${raw.length} B raw, ${gz.length} B gzip -9, ${br.length} B brotli 11`);
  const wasm = file.endsWith(".wasm");
  total.all += br.length;
  if (wasm) total.wasm += br.length;
  if (firstPage.test(file)) {
    total.first += br.length;
    if (wasm) total.firstWasm += br.length;
  }
}
console.log(`first page (Overview): ${total.first} B brotli (its WASM: ${total.firstWasm} B)`);
console.log(`all assets: ${total.all} B brotli (all WASM, every page's chunks included: ${total.wasm} B)`);
