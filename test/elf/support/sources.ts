/** C sources compiled at test time; each exercises ELF features later stages meet in kernel builds. */

/** Kernel-like translation unit: statics, static locals, strings, a jump table, weak, TLS, a COMDAT group. */
export const KERNEL_LIKE_C = String.raw`
struct ops { int (*fn)(int); const char *name; };
extern int undefined_ext(int);
extern void printk(const char *fmt, ...);
static int counter;
int global_var = 5;
int zero_global;
static const char banner[] = "kpatch test banner";
__thread int tls_var;
int __attribute__((weak)) weak_fn(int x) { return x + 1; }
static int __attribute__((noinline)) helper(int x) { static int calls; calls++; return x * calls + counter; }
int dispatch(int x) {
  switch (x) {
  case 0: return 11; case 1: return helper(3); case 2: return 37; case 3: return 41;
  case 4: return 99; case 5: return 1234; case 6: return undefined_ext(x); case 7: return 77;
  default: return -1;
  }
}
int exported(int v) { counter += v; printk("value %d %s\n", counter, banner); return weak_fn(helper(v)) + tls_var; }
static int __attribute__((noinline)) ops_fn(int x) { return helper(x) * 2; }
struct ops my_ops = { ops_fn, "ops" };
const struct ops *ops_table[] = { &my_ops };
int __attribute__((section(".text.unlikely"))) cold_fn(int x) { return x ? undefined_ext(x) : 0; }
void __attribute__((section(".init.text"))) init_fn(void) { printk("init %d\n", global_var); }
int aliased(int x) __attribute__((alias("exported")));
static const char *const messages[] __attribute__((used, section(".data..ro_after_init"))) = { "a", "bb", "ccc" };
asm(".pushsection .text.grp_fn,\"axG\",@progbits,grp_fn,comdat\n"
    ".globl grp_fn\n.type grp_fn,@function\ngrp_fn:\n call exported\n ret\n.size grp_fn, .-grp_fn\n"
    ".popsection\n.pushsection .rodata.grp_fn,\"aG\",@progbits,grp_fn,comdat\n.quad grp_fn\n.popsection\n");
`;

/** First half of a module: .modinfo, this_module, an exported symbol with its ksymtab, __versions, a jump label. */
export const MODULE_MAIN_C = String.raw`
#define MODINFO(tag, info) static const char __modinfo_##tag[] __attribute__((used, section(".modinfo"), aligned(1))) = #tag "=" info
MODINFO(license, "GPL");
MODINFO(description, "kpatch elf test module");
MODINFO(vermagic, "6.1.0 SMP preempt mod_unload");
struct module { char name[56]; int (*init)(void); void (*exit)(void); };
struct kernel_symbol { unsigned long value; const char *name; };
struct modversion_info { unsigned long crc; char name[56]; };
extern int printk(const char *fmt, ...);
extern void *kmalloc(unsigned long size, int flags);
extern int module_helper(int);
int init_module(void);
void cleanup_module(void);
struct module __this_module __attribute__((section(".gnu.linkonce.this_module"))) = { "testmod", init_module, cleanup_module };
static const struct modversion_info versions[] __attribute__((used, section("__versions"))) = {
  { 0x12345678, "printk" }, { 0x9abcdef0, "kmalloc" },
};
int my_export(int x) { return module_helper(x) + 1; }
static const char __kstrtab_my_export[] __attribute__((used, section("__ksymtab_strings"))) = "my_export";
static const struct kernel_symbol __ksymtab_my_export __attribute__((used, section("___ksymtab+my_export"))) = {
  (unsigned long)&my_export, __kstrtab_my_export
};
struct static_key { int enabled; } my_key;
static inline __attribute__((always_inline)) int key_enabled(void) {
  asm goto("1: .byte 0x0f,0x1f,0x44,0x00,0x00\n"
           ".pushsection __jump_table, \"aw\"\n.balign 8\n.long 1b - ., %l[yes] - .\n.quad my_key - .\n.popsection\n"
           : : : : yes);
  return 0;
yes:
  return 1;
}
static void *buffer;
int __attribute__((section(".init.text"))) init_module(void) {
  buffer = kmalloc(64, 0);
  return printk("loaded %d\n", key_enabled()) + my_export(1);
}
void __attribute__((section(".exit.text"))) cleanup_module(void) { printk("bye %p\n", buffer); }
`;

/** Second half of the module, linked with the first by ld -r. */
export const MODULE_HELPER_C = String.raw`
extern int printk(const char *fmt, ...);
static int table[16] = { 1, 2, 3 };
static int __attribute__((noinline)) lookup(int i) { return table[i & 15]; }
int module_helper(int x) { static int hits; hits++; return lookup(x) + printk("helper %d\n", hits); }
`;

/** C++ inline functions and a template: real COMDAT groups as g++ emits them. */
export const COMDAT_CXX = `
template <typename T> struct Box { T v; T get() const { return v * 2; } };
inline int shared_inline(int x) { static int uses; return x + ++uses; }
int use_box(int x) { Box<int> b{x}; Box<long> c{x}; return b.get() + (int)c.get() + shared_inline(x); }
`;

/** GCC flags close to a kernel build of a module object. */
export const KERNEL_CFLAGS = [
  '-c',
  '-O2',
  '-ffunction-sections',
  '-fdata-sections',
  '-fno-pic',
  '-mcmodel=kernel',
  '-mno-red-zone',
  '-pg',
  '-mfentry',
  '-mrecord-mcount',
  '-fno-asynchronous-unwind-tables',
];
