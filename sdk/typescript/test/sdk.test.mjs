// Against a live platform (tests/sdk/test_typescript_sdk.py starts one and sets
// SHIPWAY_URL, SHIPWAY_TOKEN, SHIPWAY_TEAM and SHIPWAY_ARCHIVES): create a site, upload
// twice, follow each deployment to `ready` through `subscribe`, roll back.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { Shipway, ShipwayError, unwrap } from "../dist/index.js";

const client = new Shipway({ url: process.env.SHIPWAY_URL, token: process.env.SHIPWAY_TOKEN });
const archives = process.env.SHIPWAY_ARCHIVES.split(",");

async function upload(siteId, path) {
  const form = new FormData();
  form.append("code", new Blob([readFileSync(path)]), "site.tar.gz");
  const response = await fetch(`${client.url}/v1/sites/${siteId}/deployments`, {
    method: "POST",
    headers: { Authorization: `Bearer ${process.env.SHIPWAY_TOKEN}` },
    body: form,
  });
  assert.equal(response.status, 202, await response.clone().text());
  return response.json();
}

// Subscribed to the site's deployments before the upload: no status change is missed.
async function deployAndFollow(siteId, path) {
  const seen = [];
  let reached;
  const done = new Promise((resolve) => (reached = resolve));
  let wanted = null;
  const subscription = client.subscribe(`sites.${siteId}.deployments`, (event) => {
    seen.push(event.payload);
    if (wanted && event.payload.id === wanted && ["ready", "failed"].includes(event.payload.status)) {
      reached(event.payload);
    }
  });
  await subscription.ready;
  const deployment = await upload(siteId, path);
  wanted = deployment.id;
  const early = seen.find((p) => p.id === wanted && ["ready", "failed"].includes(p.status));
  const final = early ?? (await done);
  subscription.close();
  const statuses = seen.filter((p) => p.id === wanted).map((p) => p.status);
  return { deployment: final, statuses };
}

test("create, deploy, follow through subscribe, roll back", async () => {
  const site = await unwrap(
    client.api.POST("/v1/sites", {
      body: { name: "SDK site", teamId: process.env.SHIPWAY_TEAM, framework: "static" },
    }),
  );
  assert.match(site.id, /^[a-z0-9]/);

  const first = await deployAndFollow(site.id, archives[0]);
  assert.equal(first.deployment.status, "ready");
  assert.deepEqual(first.statuses.at(-1), "ready");
  assert.ok(first.statuses.includes("processing"), `seen: ${first.statuses}`);

  const second = await deployAndFollow(site.id, archives[1]);
  assert.equal(second.deployment.status, "ready");
  let now = await unwrap(
    client.api.GET("/v1/sites/{site_id}", { params: { path: { site_id: site.id } } }),
  );
  assert.equal(now.deploymentId, second.deployment.id);

  // Roll back: the first deployment serves again.
  await unwrap(
    client.api.PATCH("/v1/sites/{site_id}/deployments/{deployment_id}/activate", {
      params: { path: { site_id: site.id, deployment_id: first.deployment.id } },
    }),
  );
  now = await unwrap(
    client.api.GET("/v1/sites/{site_id}", { params: { path: { site_id: site.id } } }),
  );
  assert.equal(now.deploymentId, first.deployment.id);

  const list = await unwrap(
    client.api.GET("/v1/sites/{site_id}/deployments", {
      params: { path: { site_id: site.id } },
    }),
  );
  assert.equal(list.total, 2);
});

test("errors carry the API's message", async () => {
  await assert.rejects(
    unwrap(client.api.GET("/v1/sites/{site_id}", { params: { path: { site_id: "no-such-site" } } })),
    (error) => error instanceof ShipwayError && error.status === 404 && error.message.length > 0,
  );
});

test("a channel the key cannot read is refused", async () => {
  const subscription = client.subscribe("sites.no-such-site.deployments", () => {});
  await assert.rejects(subscription.ready, ShipwayError);
  assert.equal(await subscription.closed, 4403);
});
