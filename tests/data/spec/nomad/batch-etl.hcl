job "etl" {
  datacenters = ["dc1"]
  type        = "batch"

  group "extract" {
    ephemeral_disk {
      size = 2048
    }

    task "extract" {
      driver = "docker"

      config {
        image   = "python:3.12-slim"
        command = "python"
        args    = ["-m", "etl.extract", "--since", "2024-01-01"]
      }

      env {
        BUCKET    = "s3://data-lake/raw"
        LOG_LEVEL = "info"
      }

      resources {
        cores  = 2
        memory = 2048
      }
    }
  }
}
