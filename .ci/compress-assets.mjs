// Writes NAME.gz and NAME.br next to every .js, .wasm and .css file in a directory, and prints
// each file's raw and compressed sizes. Uses node's zlib so no extra tool is needed.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node compress-assets.mjs DIR");
  process.exit(2);
}
for (const name of readdirSync(dir).filter((n) => /\.(js|wasm|css)$/.test(n)).sort()) {
  const raw = readFileSync(join(dir, name));
  const gz = gzipSync(raw, { level: 9 });
  const br = brotliCompressSync(raw, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
  });
  writeFileSync(join(dir, `${name}.gz`), gz);
  writeFileSync(join(dir, `${name}.br`), br);
  console.log(`${name}: ${raw.length} B raw, ${gz.length} B gzip -9, ${br.length} B brotli 11`);
}
