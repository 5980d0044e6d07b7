{
  "targets": [
    {
      "target_name": "vxlan_recv",
      "sources": ["vxlan_recv.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", { "type": "none" }]]
    }
  ]
}
