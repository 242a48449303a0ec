"""Minimal server-rendered apps for tests and benchmarks (path -> file text, for
tests/archives.tar_gz). Versions are pinned exactly, so that a build today and a build
next year install the same packages.

Each page is rendered per request and shows:
- `<p id="marker">` the marker the app was made with (which deployment answered),
- `<p id="now">` Date.now() at render time and `<p id="count">` a per-process request
  counter (proof that it was rendered by a running server, not prerendered),
- `<p id="greeting">` the runtime variable GREETING (read when the server renders).

And a static asset the edge serves without the server: `/static.txt` holding the
marker, plus the framework's own hashed assets (Next.js `/_next/static/...`,
SvelteKit `/_app/immutable/...`).
"""

from __future__ import annotations

import json

NEXT_VERSION = "16.4.6"
REACT_VERSION = "19.3.1"
SVELTEKIT_VERSION = "2.70.4"
SVELTEKIT_ADAPTER_NODE_VERSION = "5.5.7"
SVELTE_VERSION = "5.57.3"
VITE_PLUGIN_SVELTE_VERSION = "5.1.0"
VITE_VERSION = "6.4.6"
MS_VERSION = "2.1.3"  # a runtime dependency adapter-node leaves external (node_modules)


def nextjs_app(marker: str) -> dict[str, str]:
    """A Next.js (app router, `output: 'standalone'`) app rendering per request."""
    return {
        "package.json": json.dumps(
            {
                "name": "ssr-next",
                "private": True,
                "scripts": {"build": "next build", "start": "next start"},
                "dependencies": {
                    "next": NEXT_VERSION,
                    "react": REACT_VERSION,
                    "react-dom": REACT_VERSION,
                },
            },
            indent=2,
        ),
        "next.config.mjs": "export default { output: 'standalone' };\n",
        "app/layout.js": (
            "export const metadata = { title: 'ssr-next' };\n"
            "export default function RootLayout({ children }) {\n"
            '  return (<html lang="en"><body>{children}</body></html>);\n'
            "}\n"
        ),
        "app/page.js": (
            "export const dynamic = 'force-dynamic';\n"
            "globalThis.__shipwayRequests = globalThis.__shipwayRequests || 0;\n"
            "export default function Page() {\n"
            "  globalThis.__shipwayRequests += 1;\n"
            "  return (\n"
            "    <main>\n"
            f'      <p id="marker">{marker}</p>\n'
            '      <p id="now">{Date.now()}</p>\n'
            '      <p id="count">{globalThis.__shipwayRequests}</p>\n'
            "      <p id=\"greeting\">{process.env.GREETING || ''}</p>\n"
            "    </main>\n"
            "  );\n"
            "}\n"
        ),
        "public/static.txt": f"{marker}\n",
    }


def sveltekit_app(marker: str) -> dict[str, str]:
    """A SvelteKit 2 app with @sveltejs/adapter-node rendering per request; it imports
    one runtime dependency (`ms`), which the server needs from production node_modules."""
    return {
        "package.json": json.dumps(
            {
                "name": "ssr-sveltekit",
                "private": True,
                "type": "module",
                "scripts": {"build": "vite build"},
                "dependencies": {"ms": MS_VERSION},
                "devDependencies": {
                    "@sveltejs/adapter-node": SVELTEKIT_ADAPTER_NODE_VERSION,
                    "@sveltejs/kit": SVELTEKIT_VERSION,
                    "@sveltejs/vite-plugin-svelte": VITE_PLUGIN_SVELTE_VERSION,
                    "svelte": SVELTE_VERSION,
                    "vite": VITE_VERSION,
                },
            },
            indent=2,
        ),
        "svelte.config.js": (
            "import adapter from '@sveltejs/adapter-node';\n"
            "export default { kit: { adapter: adapter() } };\n"
        ),
        "vite.config.js": (
            "import { sveltekit } from '@sveltejs/kit/vite';\n"
            "export default { plugins: [sveltekit()] };\n"
        ),
        "src/app.html": (
            '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8" />'
            "%sveltekit.head%</head>\n<body><div>%sveltekit.body%</div></body>\n</html>\n"
        ),
        "src/routes/+page.server.js": (
            "import ms from 'ms';\n"
            "let requests = 0;\n"
            "export function load() {\n"
            "  requests += 1;\n"
            "  return {\n"
            "    now: Date.now(),\n"
            "    count: requests,\n"
            "    greeting: process.env.GREETING || '',\n"
            "    uptime: ms(Math.round(process.uptime() * 1000)),\n"
            "  };\n"
            "}\n"
        ),
        "src/routes/+page.svelte": (
            "<script>\n  let { data } = $props();\n  let clicks = $state(0);\n</script>\n"
            f'<p id="marker">{marker}</p>\n'
            '<p id="now">{data.now}</p>\n'
            '<p id="count">{data.count}</p>\n'
            '<p id="greeting">{data.greeting}</p>\n'
            '<p id="uptime">{data.uptime}</p>\n'
            "<button onclick={() => clicks++}>clicked {clicks}</button>\n"
        ),
        "static/static.txt": f"{marker}\n",
    }


__all__ = ["nextjs_app", "sveltekit_app"]
