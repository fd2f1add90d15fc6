//! Criterion benchmark of `classify` on chat-length texts (English and Indonesian), an
//! event decided by rules alone, and the text model alone.
//!
//! `cargo bench -p lintas-classifier --bench classify`; the events/s figure per core is
//! 1 / (time per classification), criterion runs one thread.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lintas_classifier::{Classifier, CustomerContext};
use lintas_schema::v1::{Actor, Channel, Direction, InteractionEvent};

const CHAT_TEXTS: &[&str] = &[
    "Hi, could you tell me where my order is? It has not arrived yet and it's been a week.",
    "Kak, saya udah transfer tadi pagi tapi status pesanan masih menunggu pembayaran, tolong dicek ya",
    "Do you ship to Singapore? I'd like to order two of the blue chairs for our office.",
    "Min, barangnya datang rusak, gimana cara refund nya? kecewa banget",
    "Thanks for the quick help yesterday, the replacement works perfectly!",
    "Halo kak, sepatu ukuran 40 warna putih masih ready gak? mau pesan satu",
    "Can I upgrade my plan to the annual premium package with more seats?",
    "Promo gratis ongkirnya berlaku sampai kapan ya kak?",
];

fn message(text: &str) -> InteractionEvent {
    InteractionEvent {
        event_id: "0194f3a0-0000-7000-8000-000000000000".into(),
        tenant_id: "acme-shop".into(),
        source: "whatsapp".into(),
        channel: Channel::Messaging as i32,
        direction: Direction::Inbound as i32,
        actor: Actor::Customer as i32,
        event_name: "message.received".into(),
        customer_id: "whatsapp:15555550101".into(),
        text: text.into(),
        ..Default::default()
    }
}

fn benches(criterion: &mut Criterion) {
    let classifier = match Classifier::builtin() {
        Ok(classifier) => classifier,
        Err(error) => panic!("built-in classifier: {error}"),
    };
    let context = CustomerContext::default();
    let events: Vec<InteractionEvent> = CHAT_TEXTS.iter().map(|text| message(text)).collect();

    let mut group = criterion.benchmark_group("classify");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("chat_messages", |bench| {
        bench.iter(|| {
            for event in &events {
                black_box(classifier.classify(black_box(event), &context));
            }
        })
    });
    let order = InteractionEvent {
        event_name: "order.created".into(),
        text: String::new(),
        ..message("")
    };
    group.throughput(Throughput::Elements(1));
    group.bench_function("order_event_by_rule", |bench| {
        bench.iter(|| black_box(classifier.classify(black_box(&order), &context)))
    });
    group.throughput(Throughput::Elements(CHAT_TEXTS.len() as u64));
    group.bench_function("text_model_only", |bench| {
        bench.iter(|| {
            for text in CHAT_TEXTS {
                black_box(classifier.model().score(black_box(text)));
            }
        })
    });
    group.finish();
}

criterion_group!(classify, benches);
criterion_main!(classify);
