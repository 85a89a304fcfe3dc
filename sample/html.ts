/** Escapes text for HTML; every value a page shows goes through it. */
export function esc(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** The sample's page frame: plain HTML (the home page adds one small script for its socket). */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · nestjs-authkit sample</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
  h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; }
  code, pre { background: #f3f3f5; border-radius: 4px; padding: 0 .25rem; }
  pre { padding: .6rem; white-space: pre-wrap; word-break: break-all; }
  .flag { display: inline-block; background: #e6f4ea; color: #137333; border-radius: 1rem; padding: 0 .6rem; margin-right: .3rem; }
  .muted { color: #6e6e73; } .box { border: 1px solid #ddd; border-radius: 6px; padding: .8rem 1rem; }
  form { display: inline; } button { font: inherit; cursor: pointer; }
  table { border-collapse: collapse; } td, th { padding: .2rem .6rem; text-align: left; border-bottom: 1px solid #eee; }
</style>
</head>
<body>
<p class="muted"><a href="/">nestjs-authkit sample</a></p>
${body}
</body>
</html>`;
}
