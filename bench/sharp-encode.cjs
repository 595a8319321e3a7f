// bench/bytes.sh's sharp (libvips) encoder: node sharp-encode.cjs FORMAT
// QUALITY SAMPLING OUTDIR REF.png… (SAMPLING: default, 4:4:4 or 4:2:0; JPEG only) writes OUTDIR/STEM.EXT with sharp's defaults for
// the format at QUALITY and prints the mean encode time per variant (ms).
const sharp = require('sharp');
const fs = require('fs');
const path = require('path');

const [format, quality, sampling, outDir, ...refs] = process.argv.slice(2);
const ext = { jpeg: '.jpg', webp: '.webp', avif: '.avif' }[format];

(async () => {
  sharp.concurrency(1);
  sharp.cache(false);
  let total = 0n;
  for (const ref of refs) {
    const input = fs.readFileSync(ref);
    const start = process.hrtime.bigint();
    const opts = { quality: Number(quality) };
    if (format === 'jpeg' && sampling !== 'default') opts.chromaSubsampling = sampling;
    const out = await sharp(input)[format](opts).toBuffer();
    total += process.hrtime.bigint() - start;
    fs.writeFileSync(path.join(outDir, path.basename(ref, '.png') + ext), out);
  }
  console.log((Number(total) / 1e6 / refs.length).toFixed(2));
})().catch((e) => { console.error(e); process.exit(1); });
