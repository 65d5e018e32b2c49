"""Support packages: the runtime every service is built on, the mesh registry and its generators, the local
launcher and the developer tools. They hold no business rules and know no individual service."""
