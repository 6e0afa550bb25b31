// Package deploy holds how CloudFlix is shipped and run on Kubernetes: the
// container image (Dockerfile), the Helm chart (helm/cloudflix) and the
// minikube try-it-out stack (minikube/). Its tests check all three offline:
// they lint and render the chart with a pinned helm, decode every object
// strictly into the Kubernetes API types and assert the invariants that
// keep the platform safe to run. It has no code the binary uses, and its
// tests never talk to a cluster or a container engine.
package deploy
