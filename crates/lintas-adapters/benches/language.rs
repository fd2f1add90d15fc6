//! Language detection per text: [`detect_language`] (the en/id pre-pass, whatlang only for what
//! it cannot decide) against [`detect_language_whatlang`] (whatlang alone, the detector before
//! the pre-pass). Reported in texts per second, one core.
//!
//! The texts are customer chat as channel teams send it (the mix of `lintas-loadgen`: English
//! and Bahasa Indonesia, short and informal), plus a group of texts the pre-pass hands to
//! whatlang (other languages and scripts, chat too short to decide), so the fallback's cost is
//! visible too.
//!
//! ```text
//! cargo bench -p lintas-adapters --bench language -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lintas_adapters::normalize::language::{detect_language, detect_language_whatlang};

/// English and Indonesian customer chat, as in `lintas-loadgen`.
const CHAT: &[&str] = &[
    "Hi, my order 10442 arrived damaged. Can I get a replacement?",
    "Where is my package? Order 10442 was supposed to arrive yesterday.",
    "Do you ship to Surabaya, and how long does it take?",
    "I was charged twice for order 10442, please refund one of the charges.",
    "Is the black running shoe in size 42 back in stock?",
    "Please cancel my subscription at the end of this billing period.",
    "Kak, paket saya dengan nomor pesanan 10442 belum sampai, bisa dicek?",
    "Min, saya mau tukar ukuran sepatu dari 42 ke 43, caranya bagaimana?",
    "Apakah bisa COD untuk area Jakarta Selatan?",
    "Saya sudah transfer untuk pesanan 10442 tapi statusnya masih menunggu pembayaran.",
    "Promo diskon 20% ini berlaku sampai kapan kak?",
    "Barangnya sudah sampai, kualitasnya bagus sekali. Terima kasih!",
    "Thanks for reaching out! I have checked order 10442: it is out for delivery today.",
    "Terima kasih sudah menghubungi kami. Pesanan 10442 sedang dalam pengiriman.",
    "Pengiriman lambat sekali, dua minggu baru sampai.",
    "Good products, but delivery could be faster.",
];

/// Texts the pre-pass leaves to whatlang.
const FALLBACK: &[&str] = &[
    "¿Dónde está mi pedido? Lo compré hace una semana y todavía no ha llegado.",
    "Bonjour, je n'ai toujours pas reçu ma commande, pouvez-vous vérifier ?",
    "Wo ist meine Bestellung? Ich habe sie vor einer Woche gekauft.",
    "注文した商品がまだ届いていません。",
    "Card payment declined?",
    "Ok",
];

fn bench_language(c: &mut Criterion) {
    let mut group = c.benchmark_group("language");
    for (name, texts) in [("chat", CHAT), ("fallback", FALLBACK)] {
        let count = u64::try_from(texts.len()).expect("a handful of texts");
        group.throughput(Throughput::Elements(count));
        group.bench_function(format!("{name}/detect_language"), |bencher| {
            bencher.iter(|| {
                for text in texts {
                    black_box(detect_language(black_box(text)));
                }
            });
        });
        group.bench_function(format!("{name}/whatlang_only"), |bencher| {
            bencher.iter(|| {
                for text in texts {
                    black_box(detect_language_whatlang(black_box(text)));
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_language);
criterion_main!(benches);
