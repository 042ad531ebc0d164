# The connector in a small static image, running as a non-root user.
#
#   docker build -t callsummary-connector .
#   docker run --rm callsummary-connector --help
#
# The build stage's Go version is go.mod's go directive (cmd/connector's
# compose_test.go checks that they agree). The final image is distroless
# static: no shell, no package manager, CA certificates for https to
# Salesforce and AWS, and the nonroot user (uid 65532).

FROM golang:1.26.8 AS build
WORKDIR /src

# Modules first, so that a change to the code reuses this layer.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/connector ./cmd/connector

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/connector /connector
USER nonroot:nonroot
ENTRYPOINT ["/connector"]
CMD ["run"]
