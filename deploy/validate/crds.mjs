// Validates custom resources against their CRDs' OpenAPI schemas, as bundled by the
// @kubernetes-models packages (Prometheus Operator, KEDA): `node crds.mjs resources.json`, where
// the file holds a JSON array of resources (manifests.py writes it from the rendered overlays).
import { readFileSync } from "node:fs";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";

const models = {
  "monitoring.coreos.com/v1 ServiceMonitor": ServiceMonitor,
  "monitoring.coreos.com/v1 PodMonitor": PodMonitor,
  "monitoring.coreos.com/v1 PrometheusRule": PrometheusRule,
  "keda.sh/v1alpha1 ScaledObject": ScaledObject,
};

const resources = JSON.parse(readFileSync(process.argv[2], "utf8"));
let failed = 0;
for (const { source, resource } of resources) {
  const key = `${resource.apiVersion} ${resource.kind}`;
  const what = `${source}: ${key} ${resource.metadata?.name}`;
  const Model = models[key];
  if (!Model) {
    console.error(`FAIL ${what}: no schema bundled for this kind`);
    failed += 1;
    continue;
  }
  try {
    new Model(resource).validate();
    console.log(`ok   ${what}`);
  } catch (error) {
    console.error(`FAIL ${what}: ${error.message}`);
    failed += 1;
  }
}
if (resources.length === 0) {
  console.error("FAIL no custom resources given");
  failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
