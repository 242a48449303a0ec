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
