{
  "targets": [
    {
      "target_name": "vxlan_recv",
      "sources": ["vxlan_recv.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", { "type": "none" }]]
    },
    {
      "target_name": "vxlan_send",
      "sources": ["vxlan_send.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", { "type": "none" }]]
    },
    {
      "target_name": "capture",
      "sources": ["capture.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", { "type": "none" }]]
    }
  ]
}
