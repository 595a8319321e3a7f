// bench/resize.sh's sharp (libvips) run: node sharp-resize.cjs WORKERS OUTDIR FILE…
// writes OUTDIR/{50x50,150x,x150}/BASENAME for every file, WORKERS files in
// flight, each with one libvips thread (sharp.concurrency(1)): the same
// parallelism as imgate resize --workers WORKERS. Orientation is applied
// (rotate()) and the output keeps the input's format, as imgate does; JPEGs
// get libvips' shrink-on-load from the target size.
const sharp = require('sharp');
const path = require('path');

const [workers, outDir, ...files] = process.argv.slice(2);

async function one(file) {
  const base = path.basename(file);
  const img = sharp(file, { failOn: 'none' }).rotate();
  await Promise.all([
    img.clone().resize(50, 50, { fit: 'inside' }).toFile(path.join(outDir, '50x50', base)),
    img.clone().resize(150, null).toFile(path.join(outDir, '150x', base)),
    img.clone().resize(null, 150).toFile(path.join(outDir, 'x150', base)),
  ]);
}

(async () => {
  sharp.concurrency(1);
  sharp.cache(false);
  let next = 0;
  const worker = async () => {
    while (next < files.length) await one(files[next++]);
  };
  await Promise.all(Array.from({ length: Number(workers) }, worker));
})().catch((e) => { console.error(e); process.exit(1); });
