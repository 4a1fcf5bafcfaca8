// Builds the demo page (demo/) into dist/web/demo, which DemoModule serves at /demo. Run by `npm run build`; the
// browser tests call buildDemo() too, so they always test the current sources.
const { build } = require('esbuild');
const { copyFile, mkdir } = require('node:fs/promises');
const { join, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..');
const OUT_DIR = join(ROOT, 'dist', 'web', 'demo');

async function buildDemo() {
  await mkdir(OUT_DIR, { recursive: true });
  await build({
    entryPoints: [join(__dirname, 'src', 'main.ts')],
    outfile: join(OUT_DIR, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    sourcemap: true,
    minify: true,
    logLevel: 'warning',
    tsconfig: join(__dirname, 'tsconfig.json'),
  });
  await Promise.all(
    ['index.html', 'styles.css'].map((file) => copyFile(join(__dirname, file), join(OUT_DIR, file))),
  );
  return OUT_DIR;
}

module.exports = { buildDemo, OUT_DIR };

if (require.main === module) {
  buildDemo().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
