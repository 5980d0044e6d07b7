// A configuration for tests: one neighbour, service vni10 (EVI 10, VNI 10) with the given static
// VTEPs (YAML list items), learning from VXLAN on 192.0.2.4 plus any further learning keys.
export function vni10Yaml(staticVteps: string, learning = ""): string {
  return `router-id: 192.0.2.4
local-as: 65000
neighbors:
  - address: 192.0.2.10
    peer-as: 65000
services:
  - name: vni10
    evi: 10
    vni: 10
    static-vteps:
${staticVteps}
learning:
  vxlan-listen: 192.0.2.4
${learning}`;
}
