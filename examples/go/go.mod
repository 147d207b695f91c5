module jwtgrant-example

go 1.19
