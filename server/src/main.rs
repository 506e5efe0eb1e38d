use clap::Parser;
use mplug2_server::config::Config;

fn main() {
    let config = Config::parse();
    println!("{config:?}");
}
