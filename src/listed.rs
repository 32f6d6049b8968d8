//! `listed_enum!`: a fieldless enum and the list of its variants, written once.
//!
//! Reports, help texts and name lookups walk an enum's variants in a fixed order; a list kept by
//! hand next to the enum lets a new variant be forgotten silently. The macro declares the enum
//! and its `ALL` constant from the same tokens, so declaration order is list order.

/// Declares a fieldless enum and `pub const ALL: [Self; N]`, its variants in declaration order.
///
/// Attributes (doc comments, derives, serde renames) pass through to the enum and its variants.
macro_rules! listed_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [$name; [$(stringify!($variant)),+].len()] = [$($name::$variant),+];
        }
    };
}
