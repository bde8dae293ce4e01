job "inference" {
  datacenters = ["dc1"]
  type        = "service"

  group "model" {
    restart {
      attempts = 0
      mode     = "fail"
    }

    network {
      port "grpc" {
        static = 8500
      }
    }

    task "server" {
      driver = "docker"

      config {
        image = "nvcr.io/nvidia/tritonserver:24.05-py3"
        args  = ["tritonserver", "--model-repository=/models"]
        ports = ["grpc"]
      }

      resources {
        cpu        = 4000
        memory     = 8192
        memory_max = 12288

        device "nvidia/gpu" {
          count = 1
        }
      }
    }
  }
}
