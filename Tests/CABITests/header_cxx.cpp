// The public header compiles as C++11 (g++ -std=c++11 -Wall -Wextra -Werror).
#include <jwtgrant.h>
#include <memory>
struct CtxDeleter { void operator()(jwtgrant_ctx *c) const { jwtgrant_ctx_free(c); } };
int main() {
    std::unique_ptr<jwtgrant_ctx, CtxDeleter> p(nullptr);
    return JWTGRANT_OK;
}
