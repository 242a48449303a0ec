import json

import pytest

from builds.detection import detect

CASES = [
    ({"package.json": {"dependencies": {"next": "14", "react": "18"}}}, "nextjs", "npm"),
    ({"package.json": {"devDependencies": {"vite": "5"}}, "yarn.lock": ""}, "vite", "yarn"),
    ({"package.json": {"dependencies": {"react": "18"}}, "pnpm-lock.yaml": ""}, "react", "pnpm"),
    ({"package.json": {"dependencies": {"astro": "4"}}, "bun.lockb": ""}, "astro", "bun"),
    ({"package.json": {"dependencies": {"@sveltejs/kit": "2", "svelte": "4"}}}, "sveltekit", "npm"),
    ({"package.json": {"dependencies": {"@angular/core": "17"}}}, "angular", "npm"),
    ({"package.json": {"scripts": {"build": "x"}}, "package-lock.json": "{}"}, "other", "npm"),
    ({"angular.json": "{}"}, "angular", ""),
    ({"index.html": "<h1>x</h1>"}, "static", ""),
    ({"README.md": "x"}, "other", ""),
    ({"package.json": "not json", "index.html": "x"}, "other", "npm"),
]


@pytest.mark.parametrize(("files", "framework", "manager"), CASES)
def test_detect(tmp_path, files, framework, manager):
    for name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (tmp_path / name).write_text(text)
    detection = detect(tmp_path)
    assert (detection.framework, detection.package_manager) == (framework, manager)
    assert detection.reason


ADAPTER_CASES = [
    # Next.js: server-rendered unless exported as files.
    ({"next.config.mjs": "export default { output: 'standalone' };"}, "nextjs", "ssr"),
    ({"next.config.js": 'module.exports = {\n  output: "export",\n};'}, "nextjs", "static"),
    ({}, "nextjs", "ssr"),
    # SvelteKit and Astro: only with their Node adapters.
    ({"package.json": {"devDependencies": {"@sveltejs/kit": "2"}}}, "sveltekit", "static"),
    (
        {
            "package.json": {
                "devDependencies": {"@sveltejs/kit": "2", "@sveltejs/adapter-node": "5"}
            }
        },
        "sveltekit",
        "ssr",
    ),
    ({"package.json": {"dependencies": {"astro": "5", "@astrojs/node": "9"}}}, "astro", "ssr"),
    ({"package.json": {"dependencies": {"astro": "5"}}}, "astro", "static"),
    # Nuxt unless it generates; React Router unless ssr is off.
    (
        {"package.json": {"dependencies": {"nuxt": "3"}, "scripts": {"build": "nuxt build"}}},
        "nuxt",
        "ssr",
    ),
    (
        {"package.json": {"dependencies": {"nuxt": "3"}, "scripts": {"build": "nuxt generate"}}},
        "nuxt",
        "static",
    ),
    ({"package.json": {"devDependencies": {"@react-router/dev": "7"}}}, "remix", "ssr"),
    (
        {
            "package.json": {"devDependencies": {"@react-router/dev": "7"}},
            "react-router.config.ts": "export default { ssr: false };",
        },
        "remix",
        "static",
    ),
    ({"package.json": {"devDependencies": {"vite": "5"}}}, "vite", "static"),
]


@pytest.mark.parametrize(("files", "framework", "adapter"), ADAPTER_CASES)
def test_detect_adapter(tmp_path, files, framework, adapter):
    files = {"package.json": {"dependencies": {"next": "16"}}, **files}
    for name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (tmp_path / name).write_text(text)
    detection = detect(tmp_path)
    assert (detection.framework, detection.adapter) == (framework, adapter)
    if adapter == "ssr":
        assert detection.adapter_reason


def test_ssr_apps_are_detected_as_server_rendered(tmp_path):
    from tests.ssr_apps import nextjs_app, sveltekit_app

    for name, app, framework in (
        ("next", nextjs_app("m"), "nextjs"),
        ("svelte", sveltekit_app("m"), "sveltekit"),
    ):
        root = tmp_path / name
        for path, text in app.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        detection = detect(root)
        assert (detection.framework, detection.adapter) == (framework, "ssr")
