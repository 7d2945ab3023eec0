module github.com/portalkit/portalkit/sdk/go

go 1.26.8

require (
	github.com/eclipse/paho.mqtt.golang v1.5.1
	github.com/oapi-codegen/runtime v1.9.1
)

require (
	github.com/apapsch/go-jsonmerge/v2 v2.0.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	golang.org/x/net v0.44.0 // indirect
	golang.org/x/sync v0.17.0 // indirect
)
