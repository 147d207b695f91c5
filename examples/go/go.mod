// The Go binding of libjwtgrant (package jwtgrant) and its demo command.
// example.com is a placeholder domain that serves nothing: use the module
// with a replace directive or a go.work workspace pointing at this
// directory (see README.md), or rename it to the repository's real URL.
module example.com/libjwtgrant

go 1.19
