job "geo" {
  datacenters = ["dc1", "dc2"]
  region      = "europe"
  type        = "service"

  constraint {
    attribute = "${attr.cpu.arch}"
    value     = "arm64"
  }

  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }

  group "app" {
    constraint {
      attribute = "${node.datacenter}"
      value     = "DE"
    }

    constraint {
      attribute = "${meta.rack}"
      operator  = "!="
      value     = "r1"
    }

    task "app" {
      driver = "docker"

      config {
        image = "ghcr.io/example/geo:1.0"
      }

      resources {
        cpu    = 1200
        memory = 512
      }
    }
  }
}
